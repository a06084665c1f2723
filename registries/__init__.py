"""Reference department registries: deterministic synthetic data behind the registry HTTP API.

Used by the demo, the tests and the benchmarks in place of real departments. `Dataset` derives
every subject and record from a seed; `create_registry_app` / `RegistryServer` serve one
department's records (registries/openapi.yaml) with injectable `Faults`; ``python -m registries``
runs them from the command line (registries/cli.py).
"""

from registries.app import STATE_KEY, RegistryState, create_registry_app
from registries.cli import DEFAULT_PORT_OFFSETS, run_registries_from_args, start_registries
from registries.dataset import Dataset
from registries.departments import DEPARTMENTS, UnknownDepartment
from registries.faults import Fault, Faults, FaultSwitch
from registries.server import RegistryServer
from registries.stats import RegistryStats
from registries.subjects import Profile, Story, SubjectKind, SubjectSeed

__all__ = [
    "DEFAULT_PORT_OFFSETS",
    "DEPARTMENTS",
    "STATE_KEY",
    "Dataset",
    "Fault",
    "FaultSwitch",
    "Faults",
    "Profile",
    "RegistryServer",
    "RegistryState",
    "RegistryStats",
    "Story",
    "SubjectKind",
    "SubjectSeed",
    "UnknownDepartment",
    "create_registry_app",
    "run_registries_from_args",
    "start_registries",
]
