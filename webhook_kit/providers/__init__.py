"""Built-in providers, one module each, and the provider contract.

Every module here (except ``base``) registers its provider through the
``register_providers`` hook, exactly as an outside plugin does.
"""

from .base import (  # noqa: F401  (the public contract for plugin authors)
    PUBLIC_URL,
    SECRET,
    SignError,
    HmacHeaderProvider,
    Provider,
    check_timestamp,
    copy_request,
    decode_signature,
    digest_matches,
    encode_digest,
    hmac_digest,
    missing_header,
    public_url,
    secrets_of,
    split_pairs,
    tolerance_setting,
    now_or,
    with_header,
)
from ..secret_values import SecretError  # noqa: F401  (raised by secrets_of)
