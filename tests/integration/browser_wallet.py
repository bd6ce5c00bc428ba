"""A Stellar browser wallet for the Chromium tests: Freighter's API shape over a real
signing library.

``window.freighterApi`` gets ``getAddress()`` and ``signTransaction(xdr,
{networkPassphrase})``, which parses the envelope and signs it with
``@stellar/stellar-base`` (npm, ``tests/integration/js``; its browser bundle is loaded
into every frame) and the secret seed of a sandbox wallet marked external.
``window.__testWallet`` is its state, which a test changes (:func:`configure`): the seed
it signs with (``seed``, or ``signWith`` to sign as another account), ``decline`` (the
shopper refuses), and ``hold`` (it waits until ``window.__testWallet.approve()``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Frame, Page

STELLAR_BASE = (
    Path(__file__).parent / "js/node_modules/@stellar/stellar-base/dist/stellar-base.min.js"
)

TEST_WALLET = r"""(function(){
var w=window.__testWallet={config:%s,signed:0,asked:0,release:null,functions:[]};
w.approve=function(){if(w.release){w.release()}};
function keypair(seed){return StellarBase.Keypair.fromSecret(seed)}
window.freighterApi={
 isConnected:function(){return Promise.resolve({isConnected:true})},
 getAddress:function(){return Promise.resolve({address:keypair(w.config.seed).publicKey()})},
 signTransaction:function(xdr,opts){w.asked++;
  var tx=StellarBase.TransactionBuilder.fromXDR(xdr,opts.networkPassphrase);
  var op=tx.operations[0];
  if(op&&op.func){w.functions.push(op.func.invokeContract().functionName().toString())}
  if(w.config.decline){return Promise.resolve({error:{code:-4,message:'User declined'}})}
  var gate=w.config.hold?new Promise(function(r){w.release=r}):Promise.resolve();
  return gate.then(function(){tx.sign(keypair(w.config.signWith||w.config.seed));w.signed++;
   return {signedTxXdr:tx.toXDR(),signerAddress:keypair(w.config.seed).publicKey()}})}};
})();"""


def stellar_base_init_script(folder: Path) -> Path:
    """The browser bundle as an init script in *folder*: Playwright runs an init script
    in a scope of its own, so the bundle's top-level ``var StellarBase`` is made a
    global."""
    if not STELLAR_BASE.is_file():
        pytest.fail(f"{STELLAR_BASE} is missing: run `npm ci` in tests/integration/js")
    path = folder / "stellar-base.init.js"
    path.write_text(STELLAR_BASE.read_text() + "\n;window.StellarBase = StellarBase;\n")
    return path


def install(context: BrowserContext, bundle: Path, **config: Any) -> None:
    """Give every page and frame of *context* the test wallet, configured by *config*
    (``seed`` at least)."""
    context.add_init_script(path=str(bundle))
    context.add_init_script(script=TEST_WALLET % json.dumps(config))


def configure(target: Page | Frame, **config: object) -> None:
    """Change the wallet's configuration in *target* (a page, or the widget's frame)."""
    target.evaluate("c => Object.assign(window.__testWallet.config, c)", config)
