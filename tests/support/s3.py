"""The real S3 server of hack/s3server (MinIO) for e2e tests and an independent client (boto3)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
HACK = ROOT / "hack" / "s3server"


@dataclass
class S3Server:
    dir: Path
    endpoint: str
    region: str
    access_key: str
    secret_key: str

    @classmethod
    def start(cls, directory: Path) -> S3Server:
        subprocess.run([str(HACK), "start", "--dir", str(directory)], check=True, timeout=1800)
        info = json.loads((directory / "s3.json").read_text())
        return cls(directory, info["endpoint"], info["region"], info["accessKey"], info["secretKey"])

    def stop(self) -> None:
        subprocess.run([str(HACK), "stop", "--dir", str(self.dir)], check=False, timeout=120)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )


def bucket_keys(s3: Any, bucket: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))
