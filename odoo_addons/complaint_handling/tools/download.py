import base64


def download_action(record, filename, content, mimetype):
    """Store `content` as an attachment of `record` (a wizard) and return the
    action that makes the browser download it."""
    attachment = record.env["ir.attachment"].create({
        "name": filename,
        "datas": base64.b64encode(content),
        "res_model": record._name,
        "res_id": record.id,
        "mimetype": mimetype,
    })
    return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "self"}
