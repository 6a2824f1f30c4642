"""Where the SMS provider pushes delivery receipts and customers' replies (Alibaba Cloud's HTTP batch push).

Not signed by Alibaba, so the URL carries a secret of ours (``SMS_RECEIPT_SECRET``), checked before
the body is read. A push stored answers Alibaba's success; one we could not store answers 503, so
Alibaba pushes it again; a body that will never parse answers 400 with the field named.
"""

import json
import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from backoffice.kernel.outbound import (
    RECEIPT_ANSWER,
    ReceiptMalformed,
    is_stop_request,
    receipt_secret_valid,
    sms_receipts_parse,
    sms_uplinks_parse,
)
from cases.outreach.services import ReceiptTooEarly, message_receipts_record, sms_stop_requests_record

logger = logging.getLogger(__name__)


def _pushed(request: HttpRequest, secret: str, store) -> HttpResponse:
    if not receipt_secret_valid(secret):
        return HttpResponse(status=404)
    try:
        stored = store(request.body)
    except ReceiptMalformed as problem:
        return JsonResponse({"code": 1, "msg": str(problem)}, status=400)
    except ReceiptTooEarly:
        return JsonResponse({"code": 1, "msg": "try again"}, status=503)
    except DatabaseError:
        logger.exception("An SMS push could not be stored; the provider will push it again.")
        return JsonResponse({"code": 1, "msg": "try again"}, status=503)
    logger.info("SMS push stored: %s", json.dumps(stored))
    return JsonResponse(dict(RECEIPT_ANSWER), json_dumps_params={"ensure_ascii": False})


def _store_receipts(body: bytes) -> dict:
    tally = message_receipts_record(provider="aliyun", receipts=sms_receipts_parse(body))
    return vars(tally)


def _store_replies(body: bytes) -> dict:
    replies = sms_uplinks_parse(body)
    stops = [reply.phone_number for reply in replies if is_stop_request(reply.text)]
    return {"replies": len(replies), "consents_withdrawn": sms_stop_requests_record(phone_numbers=stops)}


@csrf_exempt
@require_POST
def sms_receipts(request: HttpRequest, secret: str) -> HttpResponse:
    """Record the delivery receipts of the SMS we sent."""
    return _pushed(request, secret, _store_receipts)


@csrf_exempt
@require_POST
def sms_replies(request: HttpRequest, secret: str) -> HttpResponse:
    """Record customers' replies; one asking to stop withdraws their consent to SMS."""
    return _pushed(request, secret, _store_replies)
