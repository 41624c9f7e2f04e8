"""The contract the kiosk, the central and the admin tool share, free of Qt and HTTP: the
menu schema and rules (``menu``), canonical JSON and Ed25519 bundles (``signing``), key files
(``keyfile``), RFC 3339 times (``times``), the device and paper level table (``health``),
atomic writes (``atomic``), shipped data (``resources``) and personal data rules
(``personal``). Its errors derive from ``contract.errors.ContractError``."""
