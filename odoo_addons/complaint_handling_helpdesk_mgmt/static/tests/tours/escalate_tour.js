/** @odoo-module */

import { registry } from "@web/core/registry";

// A helpdesk agent escalates the ticket open in the form and sees the case's number and status.
registry.category("web_tour.tours").add("complaint_handling_helpdesk_mgmt_escalate_tour", {
    steps: () => [
        { trigger: ".o_form_view .o_form_sheet" },
        { trigger: "button[name=action_open_complaint_escalate_wizard]", run: "click" },
        { trigger: ".modal div[name=reason] textarea", run: "edit Customer demands a refund (tour)." },
        { trigger: ".modal button[name=action_escalate]", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        { trigger: ".o_form_view:not(:has(button[name=action_open_complaint_escalate_wizard]))" },
        { trigger: "a.nav-link:contains(Complaint)", run: "click" },
        { trigger: ".o_field_widget[name=complaint_case_state]:contains(New)" },
        { trigger: ".o_field_widget[name=complaint_case_number]:not(:empty)" },
        { trigger: ".o_field_widget[name=complaint_escalation_reason]:contains(refund)" },
    ],
});
