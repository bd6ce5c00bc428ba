"""The shopper's own wallet on the hosted pages: the section with its button and the
script that drives the wallet (prepare on the backend, sign in the wallet, submit; again
while another step follows), the messages the shopper reads, and the JSON answers of the
``prepare`` / ``submit`` endpoints behind it (:mod:`.pay`, :mod:`.loan`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from ..http import Call, service_error_body
from ..services.checkout_page import PreparedTransaction
from ..services.errors import ServiceError
from ._page import security_headers
from ._templates import script

__all__ = [
    "PAY_MESSAGES",
    "SHOPPER_WORDS",
    "WalletPost",
    "json_error",
    "prepared_answer",
    "shopper_error",
    "wallet_post",
    "wallet_section",
]

# The shopper's own wallet: ask it for its address, have the backend prepare a transaction,
# ask the wallet to sign it, send the signed envelope; again while the backend answers
# that another step follows (a repayment is an approval, then the repayment). Freighter's
# API shape (window.freighterApi): getAddress/requestAccess/getPublicKey,
# signTransaction(xdr, {networkPassphrase}) answering a string (older) or {signedTxXdr}
# ({error} if refused).
_SCRIPT = r"""(function(){
var C=%(config)s,el=function(n){return document.getElementById(C.id+'-'+n)},btn=el('button'),
st=el('status'),er=el('error'),label=btn.textContent,M=C.messages;
function show(m){er.hidden=true;st.hidden=false;st.textContent=m;st.setAttribute('data-state',m)}
function fail(m,code){st.hidden=true;er.hidden=false;er.querySelector('p').textContent=m;
er.setAttribute('data-code',code||'');btn.disabled=false;btn.textContent=label;btn.focus()}
function walletCall(f){return Promise.resolve().then(f).then(function(v){
if(v&&typeof v==='object'&&v.error){throw{wallet:true,detail:v.error}}return v},
function(e){throw(e&&e.wallet)?e:{wallet:true,detail:e}})}
function api(url,body){return fetch(url,{method:'POST',cache:'no-store',credentials:'same-origin',
headers:{'content-type':'application/json'},body:JSON.stringify(body)}).then(function(r){
return r.json().catch(function(){return{}}).then(function(d){if(!r.ok){var e=d&&d.error||{};
throw{code:e.code||'request_failed',message:e.message||M.network}}return d})},
function(){throw{code:'network',message:M.network}})}
function field(v,k){return typeof v==='string'?v:(v&&typeof v==='object'?v[k]:null)}
function address(w){if(C.address&&typeof w.getAddress!=='function'&&
typeof w.requestAccess!=='function'&&typeof w.getPublicKey!=='function'){
return Promise.resolve(C.address)}
return walletCall(function(){return typeof w.requestAccess==='function'?w.requestAccess():
typeof w.getAddress==='function'?w.getAddress():w.getPublicKey()}).then(function(v){
var a=field(v,'address')||field(v,'publicKey');if(!a){throw{wallet:true}}return a})}
function step(w,a){show(M.preparing);return api(C.prepare,{token:C.token,address:a})
.then(function(p){show(M['signing_'+p.step]||M.signing);return walletCall(function(){
return w.signTransaction(p.xdr,{networkPassphrase:p.network_passphrase,address:p.address})})
.then(function(v){var x=field(v,'signedTxXdr');if(!x){throw{wallet:true}}return x})})
.then(function(x){show(M.submitting);return api(C.submit,{token:C.token,signed_xdr:x})})
.then(function(s){return s.next?step(w,a):s})}
btn.addEventListener('click',function(){var w=window.freighterApi;
if(!w||typeof w.signTransaction!=='function'){fail(M.no_wallet,'no_wallet');return}
btn.disabled=true;show(M.connecting);
address(w).then(function(a){return step(w,a)})
.then(function(s){if(s.done){show(M.complete);btn.hidden=true;
Array.prototype.forEach.call(document.querySelectorAll('main form'),function(f){f.hidden=true});
setTimeout(function(){location.assign(s.redirect_url)},C.redirectDelay);return}
fail(M.not_complete,'not_complete')})
.catch(function(e){if(e&&e.wallet){fail(M.rejected,'wallet_rejected')}
else{fail((e&&e.message)||M.network,e&&e.code)}})});})();"""

PAY_MESSAGES = {
    "no_wallet": "No Stellar wallet was found in this browser. Install a Stellar wallet"
    " extension such as Freighter, reload this page and try again, or choose another way"
    " to pay.",
    "rejected": "Your wallet did not sign the payment, so nothing was charged. You can try"
    " again or choose another way to pay.",
    "network": "The payment could not be sent (the connection failed). Nothing was charged;"
    " try again.",
    "not_complete": "The payment was sent but is not confirmed yet. Reload this page in a"
    " moment to see where it stands.",
    "connecting": "Connecting to your wallet…",
    "preparing": "Preparing your payment…",
    "signing": "Confirm the payment in your wallet…",
    "submitting": "Sending your signed payment…",
    "complete": "Payment complete. Returning to the shop…",
}

SHOPPER_WORDS = {
    "invalid_signature": "Your wallet signed with another account than the one paying this"
    " order. Nothing was charged: switch to that account in your wallet and try again.",
    "transaction_mismatch": "Your wallet signed a different transaction from the one prepared"
    " for this order. Nothing was charged: try again.",
    "transaction_expired": "The payment was not signed in time and has expired. Nothing was"
    " charged: try again.",
    "transaction_stale": "Your account was used for another transaction in the meantime."
    " Nothing was charged: try again.",
    "transaction_duplicate": "This payment was already sent once; it cannot be sent again.",
    "transaction_refused": "The network refused the payment. Nothing was charged: try again.",
    "transaction_not_prepared": "This was not started on this page; try again.",
    "account_not_found": "This wallet's account does not exist on the network yet: fund it"
    " first, or use another wallet.",
    "insufficient_collateral": "Your wallet does not hold enough collateral to pay later for"
    " this order. Add collateral or choose another wallet.",
    "bill_expired": "This order has expired and can no longer be paid; start again from the shop.",
    "bill_not_payable": "This order cannot be paid any more; it may be paid already.",
    "session_not_open": "This checkout is closed and cannot be paid.",
    "invalid_token": "This page has expired; reload it and try again.",
    "insufficient_funds": "Your wallet does not hold enough USDC to repay this loan. Add"
    " USDC to it and try again.",
    "bill_not_paid": "This loan is not open for repayment: it may be repaid already. Reload"
    " the page to see where it stands.",
    "session_not_complete": "This checkout has not been paid, so there is nothing to repay.",
    "contract_trapped": "The payment could not be completed on the network. Nothing was"
    " charged: reload the page and try again.",
}
"""What the shopper reads for a refusal of their own wallet's payment, by API code (other
codes keep the service's message)."""


def wallet_section(
    *,
    name: str,
    heading: str,
    lead: str,
    button: str,
    config: dict[str, Any],
    address: str | None,
    noscript: str,
) -> dict[str, Any]:
    """What ``_own_wallet.html`` shows: a section whose button has the shopper's own
    wallet sign what the backend prepares (needs JavaScript: the wallet lives in the
    browser). *config* is the script's: ``prepare`` and ``submit`` URLs, the form
    ``token``, ``messages``, ``redirectDelay``; *address* is the account expected to
    sign, shown and used when the wallet cannot say its own."""
    return {
        "name": name,
        "heading": heading,
        "lead": lead,
        "button": button,
        "address": address,
        "noscript": noscript,
        "script": script(_SCRIPT, config={**config, "id": name, "address": address}),
    }


def prepared_answer(p: PreparedTransaction, step: str) -> Response:
    """The ``prepare`` answer: the unsigned transaction of *step* for the wallet."""
    answer = {
        "object": "checkout.prepared_transaction",
        "step": step,
        "xdr": p.xdr,
        "network_passphrase": p.network_passphrase,
        "hash": p.hash,
        "address": p.source,
        "function": p.function,
        "fee": p.fee,
        "max_time": p.max_time,
    }
    return JSONResponse(answer, headers=security_headers(None))


def shopper_error(exc: ServiceError) -> tuple[str, str]:
    """The refusal *exc* as the page shows it: its code, and its message in the shopper's
    words where there are some (:data:`SHOPPER_WORDS`)."""
    code = exc.code or exc.kind
    return code, SHOPPER_WORDS.get(code, exc.message)


def json_error(call: Call, exc: ServiceError) -> Response:
    """A refusal of an own-wallet step: the code, and the message in the shopper's words."""
    code, words = shopper_error(exc)
    status = {
        "chain_refused": 402,
        "not_found": 404,
        "permission": 403,
        "chain_unavailable": 503,
    }.get(exc.kind, 400)
    body = service_error_body(exc, call.request.request_id or "", words)
    body["error"]["code"] = code
    return JSONResponse(body, status_code=status, headers=security_headers(None))


@dataclass(frozen=True)
class WalletPost:
    """What the wallet script posts: the form ``token``, and the wallet's ``address``
    (prepare) or the ``signed_xdr`` it signed (submit); ``""`` for what is missing or
    not a string (the service then says which is missing)."""

    token: str
    address: str
    signed_xdr: str


def wallet_post(call: Call) -> WalletPost:
    """The wallet script's JSON body (anything else reads as all fields missing)."""
    try:
        body = json.loads(call.raw or b"{}")
    except ValueError:
        body = None
    fields = body if isinstance(body, dict) else {}

    def text(name: str) -> str:
        value = fields.get(name)
        return value if isinstance(value, str) else ""

    return WalletPost(text("token"), text("address"), text("signed_xdr"))
