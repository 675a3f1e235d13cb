# Follows edlake's version (Cargo.toml): EDLAKE_DOCKER_IMAGE is tagged with it.
__version__ = "0.1.0"
