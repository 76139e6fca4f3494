"""SQS queues the functions consume, the dead-letter queues behind them, and their alarms."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

MAX_RECEIVE_COUNT = 5
# The longest SQS keeps a message. A message keeps its first enqueue time when it moves to a
# dead-letter queue, so anything shorter would shorten the time left to redrive it.
DEAD_LETTER_RETENTION = Duration.days(14)
# Work queues keep jobs as long too: a region down for days must not lose what it had queued.
# NOTE: that leaves a job moved to its dead-letter queue late in those 14 days little time to be
# redriven; SQS offers no longer retention, so the dead-letter alarm is the safeguard.
WORK_RETENTION = Duration.days(14)

# Lambda's guidance for SQS event sources: a visibility timeout of at least six times the
# function timeout, so a batch retried after throttling is not handed out twice meanwhile.
VISIBILITY_TIMEOUT_FACTOR = 6

# SQS leaves a message received three times or more out of this metric, so consumers backing
# off do not trip it: it measures a backlog that nothing is working through.
OLDEST_MESSAGE_ALARM_AGE = Duration.minutes(15)
ALARM_PERIOD = Duration.minutes(1)


def secure_queue(scope: Construct, construct_id: str, **props: object) -> sqs.Queue:
    """An SQS queue encrypted at rest (SSE-SQS) that refuses requests without TLS."""
    return sqs.Queue(
        scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, **props
    )


def alarm_on_any_message(
    scope: Construct, construct_id: str, queue: sqs.IQueue, description: str
) -> cloudwatch.Alarm:
    """Alarms as soon as one message waits in ``queue``: meant for queues that should stay empty."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=queue.metric_approximate_number_of_messages_visible(
            period=ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
        ),
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class WorkQueue(Construct):
    """A queue one function consumes in batches, and a dead-letter queue for what it cannot do.

    A message that fails ``MAX_RECEIVE_COUNT`` receives moves to ``dead_letters`` and raises an
    alarm. Once the cause is fixed, an operator moves the messages back with an SQS redrive
    (``StartMessageMoveTask`` from the dead-letter queue; the source queue is the default
    destination). The consumer reports partial batch failures, so one bad message never sends
    its whole batch round again.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        purpose: str,
        consumer_timeout: Duration,
        batch_size: int,
        batching_window: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self._batch_size = batch_size
        self._batching_window = batching_window

        self.dead_letters = secure_queue(self, "DeadLetters", retention_period=DEAD_LETTER_RETENTION)
        self.queue = secure_queue(
            self,
            "Queue",
            retention_period=WORK_RETENTION,
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * consumer_timeout.to_seconds() + batching_window.to_seconds()
            ),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVE_COUNT, queue=self.dead_letters
            ),
        )
        self.dead_letter_alarm = alarm_on_any_message(
            self,
            "DeadLettersAlarm",
            self.dead_letters,
            f"{purpose}: messages failed {MAX_RECEIVE_COUNT} times and wait in the dead-letter "
            "queue; fix the cause, then redrive them to the queue.",
        )
        self.backlog_alarm = self._backlog_alarm(purpose)

    def event_source(self) -> event_sources.SqsEventSource:
        return event_sources.SqsEventSource(
            self.queue,
            batch_size=self._batch_size,
            max_batching_window=self._batching_window,
            report_batch_item_failures=True,
        )

    def _backlog_alarm(self, purpose: str) -> cloudwatch.Alarm:
        minutes = int(OLDEST_MESSAGE_ALARM_AGE.to_minutes())
        return cloudwatch.Alarm(
            self,
            "BacklogAlarm",
            alarm_description=f"{purpose}: a message has waited more than {minutes} minutes; "
            "the consumer is failing, throttled or cannot keep up.",
            metric=self.queue.metric_approximate_age_of_oldest_message(
                period=ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=OLDEST_MESSAGE_ALARM_AGE.to_seconds(),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
