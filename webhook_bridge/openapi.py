"""The OpenAPI 3.1 document served at ``/openapi.json``."""

from . import normalize


def _error(description):
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _str_props(names):
    return {name: {"type": "string"} for name in names}


def openapi(provider_names):
    accepted = {"content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Accepted"}}}}
    webhook_responses = {
        "202": {"description": "Accepted and queued", **accepted},
        "200": {"description": "Duplicate (already queued) or ignored event", **accepted},
        "400": _error("Malformed body"),
        "401": _error("Missing or bad signature, or timestamp outside the tolerance"),
        "404": _error("Unknown provider"),
        "413": _error("Body too large"),
        "422": _error("A field is missing or invalid (named in `field`)"),
    }
    signature_headers = [
        {"name": h, "in": "header", "required": False, "schema": {"type": "string"}}
        for h in ("webhook-id", "webhook-timestamp", "webhook-signature", "X-Twilio-Signature",
                  "Typeform-Signature", "X-Bridge-Token")
    ]

    def webhook(kind, summary, schema):
        return {"post": {
            "summary": summary,
            "parameters": [{"name": "provider", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": provider_names[kind]}},
                           *signature_headers],
            "requestBody": {"required": True, "content": schema},
            "responses": webhook_responses,
        }}

    def simple(summary, content_type="application/json"):
        return {"get": {"summary": summary, "responses": {
            "200": {"description": "OK", "content": {content_type: {}}}}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "Complaint webhook bridge", "version": "1.0.0",
                 "description": "Phone-system and web-form webhooks in, complaint cases out. "
                                "See webhook_bridge/README.md for each provider."},
        "paths": {
            "/webhooks/telephony/{provider}": webhook(
                "telephony", "A call event or CDR from a phone system",
                {"application/json": {"schema": {
                    "$ref": "#/components/schemas/GenericCall"}},
                 "application/x-www-form-urlencoded": {}, "text/csv": {}}),
            "/webhooks/forms/{provider}": webhook(
                "forms", "A web-form submission",
                {"application/json": {"schema": {"$ref": "#/components/schemas/GenericForm"}},
                 "application/x-www-form-urlencoded": {}, "multipart/form-data": {}}),
            "/webhooks/messaging/{provider}": {
                **webhook("messaging", "A WeChat Official Account message (XML; signature, "
                          "timestamp, nonce, encrypt_type, msg_signature in the query)",
                          {"text/xml": {}}),
                "get": {"summary": "WeChat's server-URL check: answers echostr",
                        "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                                       for n in ("signature", "timestamp", "nonce",
                                                 "echostr")],
                        "responses": {"200": {"description": "echostr", "content": {
                            "text/plain": {}}}, "401": _error("Bad signature")}},
            },
            "/webhooks/helpdesk/{provider}": webhook(
                "helpdesk", "A ticket or ticket update from Zendesk (X-Zendesk-Webhook-"
                "Signature) or Freshdesk (X-Bridge-Token or basic authentication)",
                {"application/json": {}}),
            "/healthz": simple("Liveness"),
            "/readyz": {"get": {"summary": "Odoo reachable and the outbox writable",
                                "responses": {"200": {"description": "Ready"},
                                              "503": {"description": "Not ready"}}}},
            "/metrics": simple("Prometheus metrics", "text/plain"),
            "/openapi.json": simple("This document"),
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"},
                "field": {"type": "string"}, "request_id": {"type": "string"}}},
            "Accepted": {"type": "object", "properties": {
                "status": {"enum": ["accepted", "duplicate", "ignored"]},
                "delivery_id": {"type": "integer"},
                "deliveries": {"type": "array", "items": {"type": "object", "properties": {
                    "delivery_id": {"type": "integer"}, "external_ref": {"type": "string"},
                    "duplicate": {"type": "boolean"}}}}}},
            "GenericCall": {"type": "object", "required": ["call_id", "status"], "properties": {
                **_str_props(("call_id", "caller_number", "callee_number", "start", "answer",
                              "end", "agent", "recording_url")),
                "direction": {"enum": list(normalize.DIRECTIONS)},
                "status": {"enum": list(normalize.CALL_STATUSES)},
                "duration": {"type": "integer"}, "billsec": {"type": "integer"},
                **_case_props()}},
            "GenericForm": {"type": "object", "properties": {
                "submission_id": {"type": "string"},
                **_str_props(normalize.CUSTOMER_FIELDS), **_case_props(),
                "channel": {"type": "string", "description": "a channel code of Odoo's "
                            "(validated by Odoo), default web_form"},
                "attachments": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "mimetype": {"type": "string"},
                    "data": {"type": "string", "contentEncoding": "base64"}}}}}},
        }},
    }


def _case_props():
    return {
        "customer": {"type": "object", "properties": _str_props(normalize.CUSTOMER_FIELDS)},
        **_str_props(("order_ref", "subject", "description")),
        "urgency": {"type": "string", "description": "an urgency code of Odoo's"},
        "category": {"type": "string", "maxLength": normalize.LIMITS["category"],
                     "description": "a category code defined in Odoo (validated by Odoo)"},
        "expectation": {"type": "string", "description": "an expectation code of Odoo's"},
        "amount_claimed": {"type": "number"},
    }
