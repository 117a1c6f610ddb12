"""Settings of a capture server and the folders it keeps inside the dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Hidden folder inside the dataset holding the server's own state (loaders skip dot folders).
STATE_FOLDER = ".capture"


@dataclass
class ServeConfig:
    """Everything ``lowcost-capture serve`` needs to know.

    Attributes
    ----------
    dataset : Path
        Dataset folder (created if needed; an existing dataset is continued).
    labels : list of str
        Labels the students choose from (validated folder names).
    host, port : str, int
        Address to listen on (``0.0.0.0``: every network interface).
    workers : int
        Worker processes that run the ingest pipeline.
    max_upload_bytes : int
        Largest upload accepted; enforced while the body streams in.
    max_pixels : int
        Largest photo accepted, in pixels (read from the file header before decoding).
    uploads_per_minute : int
        Uploads accepted from one client address per minute (then HTTP 429).
    body_timeout : float
        Seconds a client may take to send one upload.
    idle_timeout : float
        Seconds a client may stay silent in the middle of an upload or of a request head.
    keep_alive : int
        Seconds an idle keep-alive connection stays open (uvicorn ``timeout_keep_alive``).
    max_connections : int
        Simultaneous connections before new ones get HTTP 503 (uvicorn ``limit_concurrency``).
    size : int
        Long side of the dataset images (as ``ingest --size``).
    new_token : bool
        Make new class and instructor tokens (old links and QR codes stop working).
    """

    dataset: Path
    labels: list[str]
    host: str = "0.0.0.0"
    port: int = 8000
    workers: int = 2
    max_upload_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 64_000_000
    uploads_per_minute: int = 30
    body_timeout: float = 300.0
    idle_timeout: float = 20.0
    keep_alive: int = 5
    max_connections: int = 200
    size: int = 512
    new_token: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        """``DATASET/.capture``: tokens, staged uploads, results and thumbnails."""
        return Path(self.dataset) / STATE_FOLDER

    @property
    def staging_dir(self) -> Path:
        """Uploads being received (``*.part``) or waiting for a worker."""
        return self.state_dir / "staging"

    @property
    def results_dir(self) -> Path:
        """One JSON verdict per processed upload."""
        return self.state_dir / "results"

    @property
    def thumbs_dir(self) -> Path:
        """One small metadata-free PNG per processed upload."""
        return self.state_dir / "thumbs"
