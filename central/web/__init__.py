"""The central's web stack: a Starlette application (``app``) on uvicorn (``serve``), with
the protocol limits of ``protocol``. ``central.server.CentralServer`` runs it."""
