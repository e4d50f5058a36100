"""Project settings. See https://docs.kedro.org/en/stable/kedro_project_setup/settings.html."""

from kedro.config import OmegaConfigLoader

from waveshard.config import DEFAULT_ENV, PATTERNS
from waveshard.hooks import RunScopeHooks, StorageHooks
from waveshard.session import WaveshardSession

# The run's configuration for the pipeline registry, conf/local credentials for every
# environment, and an S3 preflight before each run; after it, where the results are
# (or what a run of some namespaces left out).
HOOKS = (StorageHooks(), RunScopeHooks())

# KedroSession, with one clear error for --namespaces that name no namespace.
SESSION_CLASS = WaveshardSession

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": DEFAULT_ENV,
    # processing.yml (ProcessingJobRunner) and instance_prices.yml, read like the rest.
    "config_patterns": PATTERNS,
}
