#!/usr/bin/env python3
"""Uses a client generated from the live OpenAPI document (openapi-python-client) against
a running server: sends a message, reads it back, lists messages. Exits non-zero on any
mismatch.

Usage: generated-client.py <base URL> <API key>   (with the generated `wa_kit_client` on
sys.path)
"""
import sys
import time

from wa_kit_client import AuthenticatedClient
from wa_kit_client.api.messages import get_message, list_messages, send_message
from wa_kit_client.models import SendMessageBody, SendMessageBodyMetadataType0

base, key = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=base, token=key)

metadata = SendMessageBodyMetadataType0.from_dict({"orderId": "1234"})
body = SendMessageBody(to="14155552671", message="Hi Sarah! Your order #1234 has shipped.", metadata=metadata)
sent = send_message.sync_detailed(client=client, body=body, idempotency_key="generated-client-1")
assert sent.status_code == 202, (sent.status_code, sent.content)
accepted = sent.parsed
assert accepted.success is True, accepted
message_id = accepted.data.id
print("sent", message_id, accepted.data.status)

for _ in range(100):
    got = get_message.sync_detailed(client=client, id=message_id)
    assert got.status_code == 200, (got.status_code, got.content)
    view = got.parsed.data
    if view.status in ("sent", "delivered", "read"):
        break
    time.sleep(0.1)
assert view.id == message_id, view
assert view.to == "14155552671", view.to
assert view.body == "Hi Sarah! Your order #1234 has shipped.", view.body
assert view.metadata.to_dict() == {"orderId": "1234"}, view.metadata
print("read back", view.status, [t.status for t in view.timeline])

listed = list_messages.sync_detailed(client=client, limit=20, page=1)
assert listed.status_code == 200, (listed.status_code, listed.content)
ids = [m.id for m in listed.parsed.data.messages]
assert message_id in ids, ids
print("listed", len(ids), "message(s)")
print("generated client ok")
