"""Packaging and CloudFormation deployment of the lake (``datalake deploy``).

The templates live in ``cloudformation/``, one stack per layer (:data:`LAYERS`, deployed in that
order, wired together by exports); ``cloudformation/params/<env>.json`` holds each layer's
parameters. :mod:`datalake.deploy.package` builds and uploads the code, :mod:`datalake.deploy.stack`
creates or updates a layer's stack through a change set.
"""

from __future__ import annotations

from datalake.deploy.templates import LAYERS, load_params, load_template, stack_name, template_path

__all__ = ["LAYERS", "load_params", "load_template", "stack_name", "template_path"]
