/** @odoo-module */
// A notebook whose pages are the steps of a paper form (class
// o_complaint_step_notebook) opens on the latest step reached: the last
// visible page marked o_complaint_step_page, rather than on page 1.
import { Notebook } from "@web/core/notebook/notebook";
import { patch } from "@web/core/utils/patch";

patch(Notebook.prototype, {
    setup() {
        super.setup(...arguments);
        if (this.props.defaultPage || !(this.props.className || "").includes("o_complaint_step_notebook")) {
            return;
        }
        const steps = this.pages.filter(
            ([, page]) => page.isVisible && (page.className || "").includes("o_complaint_step_page")
        );
        if (steps.length) {
            this.state.currentPage = steps[steps.length - 1][0];
        }
    },
});
