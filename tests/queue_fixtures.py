"""An SQS queue on the moto server drained the way a Lambda event source mapping drains it.

moto does not run Lambda code, so :class:`QueueConsumer` plays the mapping's part of the contract:
receive a batch, hand it to the handler as Lambda's SQS event (the shape of the recorded events in
``tests/events/sqs_*.json``), delete the messages the partial batch response does not name, and leave
the others to come back after the visibility timeout. The queue, its redrive policy and its
dead-letter queue are moto's real ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datalake.deploy.templates import load_template


def queue_properties(name: str) -> dict[str, Any]:
    """A queue's properties in cloudformation/ingestion.yaml."""
    return load_template("ingestion")["Resources"][name]["Properties"]


@dataclass
class QueueConsumer:
    """A queue with its dead-letter queue, and the event source mapping's side of draining it."""

    sqs: Any
    url: str
    arn: str
    dlq_url: str
    region: str = "eu-west-1"

    @classmethod
    def create(cls, sqs: Any, name: str, *, visibility_timeout: int, max_receive_count: int) -> QueueConsumer:
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
        url = sqs.create_queue(
            QueueName=name,
            Attributes={"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return cls(sqs, url, arn, dlq_url)

    def send(self, bodies: list[str]) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def lambda_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Lambda's SQS event for messages ``ReceiveMessage`` returned."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes") or {},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": self.region,
                }
                for m in messages
            ]
        }

    def poll(self, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any] | None:
        """One batch: the event handed to ``handler``, or None when no message was visible."""
        messages = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return None
        event = self.lambda_event(messages)
        response = handler(event)
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return event

    def count(self, url: str | None = None) -> int:
        """Messages still in the queue (or ``url``), visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
