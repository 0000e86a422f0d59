/** @odoo-module */
// Each role's main job, as the user meets it: from the navbar's app menu to
// the job done, asserting what the screen shows. Every tour is registered
// twice, `<name>_en` and `<name>_zh`, with the texts it expects in English
// and in Simplified Chinese (the test sets the user's language).
// A step logging "complaint-screenshot: <label>" asks the test for a
// screenshot (tests/test_role_tours.py).

import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function registerBothLanguages(name, url, steps) {
    for (const lang of ["en", "zh"]) {
        const L = (en, zh) => (lang === "zh" ? zh : en);
        tours.add(`${name}_${lang}`, { url, steps: () => steps(L) });
    }
}

function openApp() {
    return [
        { trigger: ".o_navbar_apps_menu button", run: "click" },
        { trigger: '.o_app[data-menu-xmlid="complaint_handling.complaint_menu_root"]', run: "click" },
    ];
}

function menu(...xmlids) {
    // The sections are in the navbar, their items in the dropdown it opens.
    return xmlids.map((xmlid) => ({
        trigger: `.o_main_navbar [data-menu-xmlid="${xmlid}"], .o-dropdown--menu [data-menu-xmlid="${xmlid}"]`,
        run: "click",
    }));
}

// The role's first screen: the title the user sees, no error, and a screenshot.
function firstScreen(title, label) {
    return [
        { trigger: `.o_breadcrumb:contains("${title}")` },
        {
            trigger: ".o_action_manager .o_view_controller",
            run() {
                if (document.querySelector(".o_error_dialog")) {
                    throw new Error("the first screen shows an error");
                }
                console.log(`complaint-screenshot: ${label}`);
            },
        },
        // Let the screenshot be taken before the screen changes.
        { trigger: "body", run: () => new Promise((resolve) => setTimeout(resolve, 700)) },
    ];
}

function stateIs(label) {
    return { trigger: `.o_statusbar_status button.o_arrow_button_current:contains("${label}")` };
}

// At most three buttons in the header, at most one of them primary.
function headerIsClear() {
    return {
        trigger: ".o_form_statusbar .o_statusbar_buttons",
        run() {
            const buttons = [...document.querySelectorAll(".o_form_statusbar .o_statusbar_buttons button")]
                .filter((button) => button.offsetParent !== null);
            if (buttons.length > 3) {
                throw new Error(`${buttons.length} header buttons: ${buttons.map((b) => b.textContent.trim())}`);
            }
            if (buttons.filter((button) => button.classList.contains("btn-primary")).length > 1) {
                throw new Error("two primary buttons in the header");
            }
        },
    };
}

// Officer: a phone complaint registered by hand, taken to Investigating.
// The numbered steps are the user's clicks: seven from the kanban.
registerBothLanguages("complaint_handling_role_officer", "/odoo", (L) => [
    ...openApp(),
    ...firstScreen(L("Complaint Overview", "投诉总览"), "first_screen"),
    ...menu("complaint_handling.complaint_menu_cases", "complaint_handling.complaint_menu_case_all"),
    { trigger: ".o_kanban_view .o_kanban_group" },
    /* 1 */ { trigger: ".o_control_panel button.o-kanban-button-new", run: "click" },
    {
        trigger: ".o_kanban_quick_create div[name=subject] input",
        run: "edit Heater stopped after two days",
    },
    /* 2 */ { trigger: ".o_kanban_quick_create div[name=partner_id] input", run: "edit Tour Caller" },
    /* 3 */ { trigger: '.o-autocomplete--dropdown-item a:contains("Tour Caller Zhou")', run: "click" },
    /* 4 */ {
        trigger: `.o_kanban_quick_create div[name=category_id] label:contains("${L("Product Quality", "产品质量")}")`,
        run: "click",
    },
    /* 5 */ { trigger: ".o_kanban_quick_create .o_kanban_edit", run: "click" },
    // The agent on the call sees how to reach the customer.
    { trigger: '.o_form_view div[name=partner_phone]:contains("138 0000 1111")' },
    { trigger: '.o_form_view div[name=partner_email]:contains("zhou.caller@example.com")' },
    headerIsClear(),
    /* 6 */ { trigger: ".o_form_statusbar button[name=action_acknowledge]", run: "click" },
    stateIs(L("Acknowledged", "已受理")),
    headerIsClear(),
    /* 7 */ { trigger: ".o_form_statusbar button[name=action_start_investigation]", run: "click" },
    stateIs(L("Investigating", "调查中")),
    headerIsClear(),
    {
        trigger: ".o_form_statusbar button.btn-primary[name=action_propose_solution]",
        run: () => console.log("complaint-screenshot: case_investigating"),
    },
    { trigger: "body", run: () => new Promise((resolve) => setTimeout(resolve, 700)) },
]);

// QA: the contact sheet waiting for its analysis opens on the analysis tab.
registerBothLanguages("complaint_handling_role_qa", "/odoo", (L) => [
    ...openApp(),
    ...firstScreen(L("Complaint Overview", "投诉总览"), "first_screen"),
    ...menu("complaint_handling.complaint_menu_cases", "complaint_handling.complaint_menu_contact_sheets_my_turn"),
    { trigger: '.o_list_view .o_data_row:contains("Tour Kettle") td.o_data_cell', run: "click" },
    { trigger: `.o_notebook .nav-link.active:contains("${L("2. QA Analysis", "2. 品保分析")}")` },
    {
        trigger: ".o_form_view div[name=inspection_result] textarea",
        run: "edit Thermostat relay welded shut in lot TL-7.",
    },
    { trigger: ".o_form_view div[name=responsibility] select", run: 'select "ours"' },
    { trigger: ".o_form_view div[name=countermeasure_department_id] input", run: "edit Production (test)" },
    { trigger: '.o-autocomplete--dropdown-item a:contains("Production (test)")', run: "click" },
    headerIsClear(),
    { trigger: ".o_form_statusbar button[name=action_analyse]", run: "click" },
    stateIs(L("3. Unit: Countermeasure", "3. 对策单位：对策")),
    { trigger: `.o_notebook .nav-link:contains("${L("3. Countermeasure", "3. 对策")}")` },
]);

// Department head: approves a solution from "My Approvals", in one click.
registerBothLanguages("complaint_handling_role_department_head", "/odoo", (L) => [
    ...openApp(),
    ...firstScreen(L("Complaint Overview", "投诉总览"), "first_screen"),
    ...menu("complaint_handling.complaint_menu_cases", "complaint_handling.complaint_menu_my_approvals"),
    {
        trigger: `.o_list_view .o_data_row:contains("${L("Responsible department head", "责任部门主管")}") button[name=action_open_document]`,
        run: "click",
    },
    headerIsClear(),
    { trigger: ".o_form_statusbar button.btn-primary[name=action_approval_approve]", run: "click" },
    // No dialog: the approval is recorded at once.
    { trigger: "body:not(:has(.modal)) .o_form_statusbar:not(:has(button[name=action_approval_approve]))" },
    // Logged once in the chatter, in the approver's language.
    { trigger: `.o-mail-Message-body:contains("${L("Approved (", "已批准（")}")` },
    headerIsClear(),
    { trigger: ".o_form_statusbar button.btn-primary[name=action_customer_agreed]" },
]);

// GM office: the monthly review proposes the draft reward/penalty notice.
registerBothLanguages("complaint_handling_role_gm_office", "/odoo", (L) => [
    ...openApp(),
    ...firstScreen(L("Complaint Overview", "投诉总览"), "first_screen"),
    ...menu("complaint_handling.complaint_menu_rewards", "complaint_handling.complaint_menu_monthly_review"),
    { trigger: '.modal .o_data_row:contains("Tour serious case")' },
    {
        // The year reads 2026, not 2,026; the month by its name.
        trigger: ".modal div[name=year] input",
        run() {
            const value = document.querySelector(".modal div[name=year] input").value;
            if (!/^\d{4}$/.test(value)) {
                throw new Error(`the year shows as "${value}"`);
            }
            const month = document.querySelector(".modal div[name=month] select");
            const label = month.options[month.selectedIndex].textContent.trim();
            if (/^\d+$/.test(label)) {
                throw new Error(`the month shows as a number: "${label}"`);
            }
        },
    },
    { trigger: '.modal .o_data_row:contains("Tour serious case") td[name=amount]', run: "click" },
    { trigger: '.modal .o_data_row:contains("Tour serious case") div[name=amount] input', run: "edit 200" },
    { trigger: ".modal button[name=action_create_notice]", run: "click" },
    { trigger: "body:not(:has(.modal))" },
    stateIs(L("Draft", "草稿")),
    { trigger: ".o_form_view div[name=line_ids] .o_data_row:contains(200)" },
    headerIsClear(),
]);

// Finance: lands on its deductions, applies a notice in payroll and exports the deductions.
registerBothLanguages("complaint_handling_role_finance", "/odoo", (L) => [
    ...openApp(),
    ...firstScreen(L("Deductions to Apply", "待执行扣款"), "first_screen"),
    {
        trigger: ".o_main_navbar",
        run() {
            for (const xmlid of ["complaint_menu_dashboard", "complaint_menu_cases", "complaint_menu_reporting"]) {
                if (document.querySelector(`.o_main_navbar [data-menu-xmlid="complaint_handling.${xmlid}"]`)) {
                    throw new Error(`finance sees the menu ${xmlid}`);
                }
            }
        },
    },
    { trigger: ".o_list_view .o_data_row:contains(2099-01) td.o_data_cell", run: "click" },
    headerIsClear(),
    { trigger: ".o_form_statusbar button[name=action_open_apply_wizard]", run: "click" },
    { trigger: ".modal div[name=period] input", run: "edit 2099-01" },
    { trigger: ".modal div[name=reference] input", run: "edit PAY-2099-01" },
    { trigger: ".modal button[name=action_apply]", run: "click" },
    stateIs(L("Applied", "已执行")),
    ...menu("complaint_handling.complaint_menu_finance", "complaint_handling.complaint_menu_export_deductions"),
    { trigger: ".modal div[name=period] input", run: "edit 2099-01" },
    { trigger: '.modal div[name=file_format] label:contains("CSV")', run: "click" },
    {
        trigger: ".modal div[name=scope]",
        run() {
            // The file is downloaded: keep its address for the next step instead of leaving the page.
            window.__complaintDownloads = [];
            const downloads = window.__complaintDownloads;
            const location = {
                href: window.location.href,
                origin: window.location.origin,
                assign: (url) => downloads.push(String(url)),
                reload: () => {},
            };
            Object.defineProperty(browser, "location", { get: () => location, configurable: true });
        },
    },
    { trigger: ".modal button[name=action_export]", run: "click" },
    {
        trigger: "body",
        async run() {
            for (let i = 0; i < 100 && !window.__complaintDownloads.length; i++) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            const [url] = window.__complaintDownloads;
            if (!url || !url.includes("deductions-2099-01")) {
                throw new Error(`no deductions file was offered: ${url}`);
            }
            const text = await (await fetch(url)).text();
            if (!text.includes("Tour Agent")) {
                throw new Error("the exported file does not list the deduction");
            }
        },
    },
]);

// Customer: the portal shows the solution, the customer accepts; dates without seconds.
registerBothLanguages("complaint_handling_role_customer_accept", "/my", (L) => [
    {
        // The customer's first screen: the portal home with the complaints tile, its icon of a tile's size.
        trigger: `.o_portal_index_card a[href="/my/complaints"]:contains("${L("Your Complaints", "您的投诉")}")`,
        run() {
            const icon = document.querySelector('.o_portal_index_card a[href="/my/complaints"] .o_portal_icon img');
            if (icon && icon.getBoundingClientRect().width > 64) {
                throw new Error(`the portal tile icon is ${icon.getBoundingClientRect().width}px wide`);
            }
            console.log("complaint-screenshot: first_screen");
        },
    },
    { trigger: "body", run: () => new Promise((resolve) => setTimeout(resolve, 700)) },
    { trigger: '.o_portal_index_card a[href="/my/complaints"]', run: "click" },
    {
        trigger: 'tr:contains("Tour portal case")',
        run() {
            const row = [...document.querySelectorAll("tr")].find((tr) => tr.textContent.includes("Tour portal case"));
            if (/\d{1,2}:\d{2}:\d{2}/.test(row.textContent)) {
                throw new Error(`portal dates show seconds: ${row.textContent}`);
            }
        },
    },
    { trigger: 'tr:contains("Tour portal case") a', run: "click" },
    {
        trigger: ".o_complaint_solution textarea[name=comment]",
        run(helpers) {
            if (/\d{1,2}:\d{2}:\d{2}/.test(document.querySelector("main .card").textContent)) {
                throw new Error("the case page shows times with seconds");
            }
            return helpers.edit("Fine for me, thank you.");
        },
    },
    { trigger: "button.o_complaint_accept", run: "click" },
    { trigger: ".alert-success" },
]);

registerBothLanguages("complaint_handling_role_customer_rate", "/my/complaints", (L) => [
    { trigger: 'tr:contains("Tour portal case") a', run: "click" },
    { trigger: "input.o_complaint_rating_5", run: "click" },
    { trigger: ".o_complaint_rating textarea[name=comment]", run: "edit Quick and fair." },
    { trigger: "button.o_complaint_rate", run: "click" },
    { trigger: ".alert-success" },
]);
