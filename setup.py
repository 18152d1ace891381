"""Packaging beyond pyproject.toml: conf/ (the Hydra config tree, prompt templates included)
ships inside the wheel as the ``scenmine.conf`` package data, where scenmine.resources finds it
when scenmine is installed; in a checkout it stays at the repository root."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["scenmine", "scenmine.*"]), "scenmine.conf"],
    package_dir={"scenmine.conf": "conf"},  # its files: [tool.setuptools.package-data]
)
