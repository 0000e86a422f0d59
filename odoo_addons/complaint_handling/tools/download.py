def attach_file(record, filename, content, mimetype):
    """Store `content` (bytes) as an attachment of `record`."""
    return record.env["ir.attachment"].create({
        "name": filename,
        "raw": content,
        "res_model": record._name,
        "res_id": record.id,
        "mimetype": mimetype,
    })


def download_url(attachment):
    return f"/web/content/{attachment.id}?download=true"


def download_action(attachment):
    """The action that makes the browser download `attachment`."""
    return {"type": "ir.actions.act_url", "url": download_url(attachment), "target": "self"}
