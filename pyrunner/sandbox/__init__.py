"""The disposable ONE-DATA-STUDIO sandbox: images, the compose project, and its faults."""
