"""Software updates on the kiosk (issue #15, docs/UPDATES.md): fetch a signed release's
wheels into a content-addressed cache, build a new slot beside the running one, and switch
to it under ``updater.guard``, which rolls back by itself when the new version is not
healthy in time. Qt-free; imports only ``contract`` of the project."""
