"""Copies a local store directory into a bucket of an S3 server (the query benchmark's S3 copy).

Usage: python upload.py DIR s3://BUCKET/PREFIX   (endpoint and keys from the AWS environment)
"""

import os
import sys

import boto3

root, url = sys.argv[1], sys.argv[2]
bucket, _, prefix = url.removeprefix("s3://").partition("/")
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for dirpath, _, files in os.walk(root):
    for f in files:
        path = os.path.join(dirpath, f)
        key = f"{prefix.rstrip('/')}/{os.path.relpath(path, root)}"
        s3.upload_file(path, bucket, key)
