"""The real Asterisk 22.10.1 AMI recordings (README.md here): data read by the simulator, tests and benchmarks."""

from pathlib import Path

TRACES_DIR = Path(__file__).resolve().parent
