"""An S3 API on 127.0.0.1 for the tests: moto's server (PyPI `moto[server]`) on a free port.

Usage: python moto_server.py BUCKET...  Creates the buckets, prints the endpoint URL on one line,
then serves until its standard input closes (the test's handle is dropped) and exits.
Credentials are any non-empty values (moto does not check signatures); region us-east-1.
"""

import logging
import sys

import boto3
from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://{host}:{port}"
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
for bucket in sys.argv[1:]:
    s3.create_bucket(Bucket=bucket)
print(endpoint, flush=True)
sys.stdin.read()
server.stop()
