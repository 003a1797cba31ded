"""The MQTT uplink (docs/uplink.md): store-and-forward outbox, publisher, credentials, status for the HMI."""
from app.uplink.connection import UplinkConfigError
from app.uplink.credentials import Credentials, CredentialsError, CredentialStore
from app.uplink.outbox import Outbox
from app.uplink.publisher import Published, Uplink
from app.uplink.status import UplinkStatus

__all__ = ["Credentials", "CredentialsError", "CredentialStore", "Outbox", "Published", "Uplink",
           "UplinkConfigError", "UplinkStatus"]
