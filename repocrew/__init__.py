"""The composition root: the `repocrew` command line, which starts the web app (`webhooks`), the
worker and scheduler (`jobs`) and the demo on the emulators; nothing imports it."""
