"""Container images for SageMaker training and hosting: a configured URI or the PyTorch framework image."""

from __future__ import annotations

from typing import Literal

from datalake.errors import ConfigurationError
from datalake.settings import Settings, get_settings

Scope = Literal["training", "inference"]


def framework_image(scope: Scope, settings: Settings | None = None, instance_type: str | None = None) -> str:
    """The image URI SageMaker runs for ``scope``.

    ``SAGEMAKER_TRAINING_IMAGE`` / ``SAGEMAKER_INFERENCE_IMAGE`` win when set; otherwise the
    PyTorch Deep Learning Container for ``SAGEMAKER_FRAMEWORK_VERSION`` and
    ``SAGEMAKER_PY_VERSION`` in the configured region, looked up with the SageMaker SDK (extra
    ``aws``; the lookup reads tables bundled with the SDK and makes no AWS call).

    Parameters
    ----------
    scope
        ``training`` or ``inference``.
    settings
        Lake settings; the process-wide ones when omitted.
    instance_type
        Decides CPU or GPU image; the configured instance type of ``scope`` when omitted.

    Returns
    -------
    str
        An ECR image URI.
    """
    settings = settings or get_settings()
    configured = (
        settings.sagemaker_training_image if scope == "training" else settings.sagemaker_inference_image
    )
    if configured:
        return configured
    try:
        from sagemaker.core import image_uris
    except ImportError:
        variable = f"SAGEMAKER_{scope.upper()}_IMAGE"
        raise ConfigurationError(
            f"no {scope} image: {variable} is unset and the SageMaker SDK is not installed",
            hint=f"set {variable}, or pip install -e '.[aws]' to resolve the PyTorch image",
        ) from None
    instance_type = instance_type or (
        settings.sagemaker_training_instance_type
        if scope == "training"
        else settings.sagemaker_inference_instance_type
    )
    try:
        return image_uris.retrieve(
            "pytorch",
            settings.aws_region,
            version=settings.sagemaker_framework_version,
            py_version=settings.sagemaker_py_version,
            instance_type=instance_type,
            image_scope=scope,
        )
    except ValueError as error:
        raise ConfigurationError(
            f"no PyTorch {settings.sagemaker_framework_version} {settings.sagemaker_py_version} "
            f"{scope} image in {settings.aws_region}: {error}",
            hint="change SAGEMAKER_FRAMEWORK_VERSION / SAGEMAKER_PY_VERSION or set the image URI",
        ) from None
