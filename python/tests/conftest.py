# The plugin's own tests. The plugin itself comes from the installed
# distribution (its pytest11 entry point), as a user gets it.
pytest_plugins = ["pytester"]
