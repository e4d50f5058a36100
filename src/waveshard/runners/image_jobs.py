"""The local backend's ``isolation=image``: each job runs inside the built job image.

What the job sees is what a SageMaker Processing container sees: the image's root file
system (:mod:`waveshard.runners.rootfs`) under a writable layer of its own, the image's
environment plus the request's ``Environment`` (nothing of the driver's), the
request's ContainerEntrypoint and ContainerArguments run in the image's working
directory, ``python3`` being whatever the image's ``PATH`` finds (its ``/opt/venv``), and
its inputs and outputs at the literal ``/opt/ml/processing/...`` paths.

On this machine the job's writable layer is ``<job folder>/layer``: inputs are staged
into ``layer/opt/ml/processing/input/<channel>`` before the job starts, and outputs are
uploaded from ``layer/opt/ml/processing/output`` after it ends — in the job's root
those are ``/opt/ml/processing/input/...`` and ``/opt/ml/processing/output``. The
cached root file system is the overlay's read-only lower layer, never written, so
jobs can run side by side on one image.
"""

from __future__ import annotations

from pathlib import Path

from waveshard.runners import isolation
from waveshard.runners.job_spec import OPT_ML
from waveshard.runners.rootfs import Image, find


class ImageJobs:
    """Turns a job request's command into one that runs inside ``image``.

    Args:
        image: The built image the jobs run in.
    """

    def __init__(self, image: Image) -> None:
        isolation.check_machine()
        self.image = image

    @classmethod
    def open(cls, image_root: str | None, project: Path) -> ImageJobs:
        """The image at ``image_root``, or the one built for ``project``'s current Dockerfile.

        Raises:
            waveshard.runners.rootfs.ImageMissing: Not built; names the build command.
            waveshard.runners.isolation.IsolationError: Not root, or tools missing.
        """
        image = Image.open(Path(image_root)) if image_root else find(project)
        return cls(image)

    @staticmethod
    def opt_ml(job_dir: Path) -> Path:
        """The folder that is the job's ``/opt/ml`` (inside its writable layer)."""
        return job_dir / "layer" / OPT_ML.lstrip("/")

    def command(
        self,
        job_dir: Path,
        entrypoint: list[str],
        arguments: list[str],
        request_env: dict[str, str],
    ) -> list[str]:
        """The command line that runs the request's command in the image.

        Args:
            job_dir: The job's folder (gets ``layer/``, ``overlay-work/``, ``root/``).
            entrypoint: ContainerEntrypoint; empty keeps the image's ENTRYPOINT.
            arguments: ContainerArguments, unchanged (``/opt/ml`` paths).
            request_env: The request's Environment.
        """
        overlay = isolation.Overlay(
            lower=self.image.root,
            upper=job_dir / "layer",
            work=job_dir / "overlay-work",
            mountpoint=job_dir / "root",
        )
        for folder in (overlay.upper, overlay.work, overlay.mountpoint):
            folder.mkdir(parents=True, exist_ok=True)
        return isolation.chroot_command(
            [*(entrypoint or self.image.entrypoint), *arguments],
            overlay=overlay,
            env=self.image.container_env(request_env),
            workdir=self.image.workdir,
        )
