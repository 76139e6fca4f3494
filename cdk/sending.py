"""SES sending: the configuration set, an identity per hosted domain, and the feedback path."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.dns import DnsRecord, record

CONFIGURATION_SET_NAME = "mail-sending"

# What the feedback function records per recipient; opens and clicks are not tracked.
FEEDBACK_EVENTS = [
    ses.EmailSendingEvent.SEND,
    ses.EmailSendingEvent.REJECT,
    ses.EmailSendingEvent.RENDERING_FAILURE,
    ses.EmailSendingEvent.DELIVERY,
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
]

# SES v2 SendEmail with raw content is authorized as ses:SendRawEmail, with simple content as
# ses:SendEmail; both are checked against the sending identity and the configuration set.
SEND_ACTIONS = ["ses:SendEmail", "ses:SendRawEmail"]
# SES v1 SendBounce is authorized against the identity of its BounceSender (resource type
# "identity", required, in the service authorization reference); no configuration set applies.
BOUNCE_ACTIONS = ["ses:SendBounce"]

SPF_INCLUDE = '"v=spf1 include:amazonses.com ~all"'


def mail_from_domain(domain: str, region: str) -> str:
    """The envelope sender's domain, one per region.

    Its MX record must lead to the feedback endpoint of the region that sends, so each region
    gets a subdomain of its own rather than sharing one whose MX could point at only one.
    """
    return f"bounce-{region}.{domain}"


class MailSending(Construct):
    """Everything SES needs to send for the hosted domains from this region, and report back.

    Each domain is an SES identity signed with Easy DKIM whose default configuration set
    publishes send, delivery, bounce, complaint, reject and rendering-failure events to an SNS
    topic; the topic delivers them unwrapped (raw) to the feedback queue. Identities are
    regional, so every region has its own DKIM tokens and all of them belong in DNS: the
    stacks output each record to publish.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domains: tuple[str, ...],
        feedback_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self._region = Stack.of(self).region

        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=CONFIGURATION_SET_NAME,
            reputation_metrics=True,
            sending_enabled=True,
        )
        self.feedback_topic = self._feedback_topic()
        self.configuration_set.add_event_destination(
            "Feedback",
            destination=ses.EventDestination.sns_topic(self.feedback_topic),
            events=FEEDBACK_EVENTS,
        )
        self.feedback_topic.add_subscription(
            subscriptions.SqsSubscription(feedback_queue, raw_message_delivery=True)
        )
        self.identities = {domain: self._identity(domain) for domain in domains}

    @property
    def configuration_set_name(self) -> str:
        return self.configuration_set.configuration_set_name

    @property
    def configuration_set_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="ses", resource="configuration-set", resource_name=self.configuration_set_name
        )

    def grant_send(self, grantee: iam.IGrantable) -> iam.Grant:
        """Sending as the hosted domains, through the configuration set, and nothing else.

        NOTE: while the account is in the SES sandbox, SES also authorizes each recipient's
        verified identity, which this grant leaves out on purpose: leave the sandbox to send.
        """
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=SEND_ACTIONS,
            resource_arns=[
                *(identity.email_identity_arn for identity in self.identities.values()),
                self.configuration_set_arn,
            ],
        )

    def grant_bounce(self, grantee: iam.IGrantable) -> iam.Grant:
        """Answering mail received for an unknown address with a bounce from one of the domains."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=BOUNCE_ACTIONS,
            resource_arns=[identity.email_identity_arn for identity in self.identities.values()],
        )

    def dns_records(self, domain: str) -> dict[str, DnsRecord]:
        """The records ``domain`` needs for this region to send: DKIM, then MAIL FROM."""
        identity = self.identities[domain]
        mail_from = mail_from_domain(domain, self._region)
        return {
            "Dkim1": record(identity.dkim_dns_token_name1, "CNAME", identity.dkim_dns_token_value1),
            "Dkim2": record(identity.dkim_dns_token_name2, "CNAME", identity.dkim_dns_token_value2),
            "Dkim3": record(identity.dkim_dns_token_name3, "CNAME", identity.dkim_dns_token_value3),
            "MailFromMx": record(mail_from, "MX", f"10 feedback-smtp.{self._region}.amazonses.com"),
            "MailFromTxt": record(mail_from, "TXT", SPF_INCLUDE),
        }

    def _identity(self, domain: str) -> ses.EmailIdentity:
        return ses.EmailIdentity(
            self,
            f"Identity-{domain}",
            identity=ses.Identity.domain(domain),
            dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
            configuration_set=self.configuration_set,
            mail_from_domain=mail_from_domain(domain, self._region),
            # Until the MAIL FROM records are published SES sends with its own envelope domain;
            # DKIM still aligns with the From domain, so DMARC passes in the meantime.
            mail_from_behavior_on_mx_failure=ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
            # Bounces and complaints arrive as events; the feedback function turns them into
            # reports, so SES's own bounce mail to the sender would only be a second copy.
            feedback_forwarding=False,
        )

    def _feedback_topic(self) -> sns.Topic:
        # SES can only publish to an encrypted topic under a customer managed key whose policy
        # lets SES use it; AWS managed keys (alias/aws/sns) take no such statement.
        key = kms.Key(
            self,
            "FeedbackKey",
            description="Encrypts SES sending events on the feedback topic",
            enable_key_rotation=True,
            # Events stay on the topic only until SQS takes them; nothing outlives the stack.
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        # The topic policy CDK writes for the event destination confines SES to this account's
        # configuration set; the key is only ever used through this topic.
        key.grant(iam.ServicePrincipal("ses.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")
        return sns.Topic(
            self,
            "FeedbackTopic",
            display_name="SES sending events",
            master_key=key,
            enforce_ssl=True,
        )
