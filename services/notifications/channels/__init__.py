"""Notification channel adapters behind one interface (see `base`).

Each adapter turns a rendered `Message` into one provider call and reports
`Sent`, `RetryLater` or `Failed`; retry policy lives in `backoff`.
"""

from .aliyun_sms import AliyunSmsChannel
from .base import Channel, Failed, Message, Recipient, RetryLater, SendResult, Sent
from .email import SmtpEmailChannel
from .log import LogChannel
from .tencent_sms import TencentSmsChannel
from .webhook import WebhookChannel, WebhookVerificationError, generate_secret
from .wechat import WeChatSubscribeChannel

__all__ = [
    "AliyunSmsChannel",
    "Channel",
    "Failed",
    "LogChannel",
    "Message",
    "Recipient",
    "RetryLater",
    "SendResult",
    "Sent",
    "SmtpEmailChannel",
    "TencentSmsChannel",
    "WeChatSubscribeChannel",
    "WebhookChannel",
    "WebhookVerificationError",
    "generate_secret",
]
