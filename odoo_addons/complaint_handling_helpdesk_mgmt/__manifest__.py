{
    "name": "Complaint Handling - Helpdesk (OCA helpdesk_mgmt)",
    "summary": "Escalate helpdesk tickets into complaint cases and report the cases' "
    "milestones back on the tickets",
    "version": "18.0.1.0.0",
    "category": "Sales/Complaints",
    "license": "LGPL-3",
    "author": "Complaint Handling contributors",
    "website": "https://github.com/complaint-handling/complaint-handling",
    "depends": ["complaint_handling", "helpdesk_mgmt"],
    "data": [
        "security/ir.model.access.csv",
        "security/helpdesk_complaint_security.xml",
        "data/helpdesk_ticket_channel_data.xml",
        "wizards/helpdesk_ticket_escalate_wizard_views.xml",
        "views/helpdesk_ticket_views.xml",
        "views/helpdesk_ticket_team_views.xml",
        "views/helpdesk_ticket_channel_views.xml",
        "views/helpdesk_complaint_rule_views.xml",
        "views/complaint_case_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "complaint_handling_helpdesk_mgmt/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
    "installable": True,
}
