/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

function pick(field, text) {
    return [
        { trigger: `.o_form_view div[name=${field}] input`, run: `edit ${text}` },
        { trigger: `.o-autocomplete--dropdown-item a:contains("${text}")`, run: "click" },
    ];
}

function stateIs(label) {
    return { trigger: `.o_statusbar_status button.o_arrow_button_current:contains("${label}")` };
}

// An agent registers a phone complaint, acknowledges it and takes it through to the written reply.
registry.category("web_tour.tours").add("complaint_handling_backoffice_tour", {
    // From the list, New opens the full form (the kanban's New is a quick create, see role_tours.js).
    url: "/odoo/action-complaint_handling.complaint_case_action?view_type=list",
    steps: () => [
        { trigger: ".o_list_view" },
        { trigger: "button.o_list_button_add", run: "click" },
        { trigger: ".o_form_view div[name=subject] input", run: "edit Blender jug cracked on first use" },
        ...pick("partner_id", "Tour Customer"),
        ...pick("category_id", "Product Quality"),
        { trigger: ".o_form_view div[name=kind] select", run: 'select "appeal"' },
        ...stepUtils.saveForm(),
        // Acknowledge also queues the acknowledgement e-mail (sent by a cron).
        { trigger: "button[name=action_acknowledge]", run: "click" },
        stateIs("Acknowledged"),
        { trigger: "a.nav-link:contains(Responsibility)", run: "click" },
        ...pick("responsible_department_id", "Production (tour)"),
        ...pick("user_id", "Mitchell Admin"),
        { trigger: ".o_form_view div[name=verdict] select", run: 'select "company"' },
        ...stepUtils.saveForm(),
        { trigger: "button[name=action_start_investigation]", run: "click" },
        stateIs("Investigating"),
        { trigger: "a.nav-link:contains(Solution and Reply)", run: "click" },
        {
            trigger: ".o_form_view div[name=solution_description] .odoo-editor-editable",
            run: "editor Replace the jug within three days, at our cost.",
        },
        ...stepUtils.saveForm(),
        { trigger: "button[name=action_propose_solution]", run: "click" },
        // Every solution now waits for the department head's approval.
        stateIs("Solution Proposed"),
    ],
});

// Once the department head approved, the agent records the customer's
// agreement, carries out the solution and writes the reply.
registry.category("web_tour.tours").add("complaint_handling_backoffice_execute_tour", {
    steps: () => [
        { trigger: "button[name=action_customer_agreed]", run: "click" },
        { trigger: ".o_form_statusbar:not(:has(button[name=action_customer_agreed]))" },
        { trigger: "button[name=action_start_execution]", run: "click" },
        stateIs("In Execution"),
        { trigger: "button[name=action_open_reply_wizard]:contains(Reply to Customer)", run: "click" },
        { trigger: ".modal div[name=basis] input", run: "edit inspection report QA-7" },
        { trigger: ".modal button[name=action_send]", run: "click" },
        stateIs("Replied"),
    ],
});

// The customer opens the case from the portal and accepts the proposed solution.
registry.category("web_tour.tours").add("complaint_handling_portal_accept_tour", {
    url: "/my/complaints",
    steps: () => [
        { trigger: "tr:contains(Tour portal case) a", run: "click" },
        { trigger: ".o_complaint_solution textarea[name=comment]", run: "edit Fine for me, thank you." },
        { trigger: "button.o_complaint_accept", run: "click" },
        { trigger: ".alert-success:contains(carry out the solution)" },
    ],
});

// Once replied, the customer rates how the complaint was handled.
registry.category("web_tour.tours").add("complaint_handling_portal_rate_tour", {
    url: "/my/complaints",
    steps: () => [
        { trigger: "tr:contains(Tour portal case) a", run: "click" },
        { trigger: "input.o_complaint_rating_5", run: "click" },
        { trigger: ".o_complaint_rating textarea[name=comment]", run: "edit Quick and fair." },
        { trigger: "button.o_complaint_rate", run: "click" },
        { trigger: ".alert-success:contains(Thank you for your rating)" },
    ],
});
