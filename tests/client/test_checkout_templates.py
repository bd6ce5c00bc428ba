"""The embedded checkout in templates: the Jinja global (and Flask's ``init_app``) and the
Django tag library, with hostile values: every value comes out escaped exactly once, so a
browser reads back the very value, and nothing else becomes markup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import jinja2
import pytest

from lumenlater_sdk import format_usdc
from lumenlater_sdk.checkout import SafeHTML, embed_html
from lumenlater_sdk.checkout.jinja import install, lumenlater_embed
from lumenlater_sdk.types import CheckoutSession

PK = "pk_test_abc123"
EVIL = "\"><script>alert(1)</script><img src=x onerror=alert(2)>&amp;'`"


def session(**over: Any) -> CheckoutSession:
    data: dict[str, Any] = {
        "id": "cs_1", "object": "checkout.session", "created": 1,
        "url": "http://127.0.0.1:8787/pay/cs_1", "client_secret": "cs_1_secret_abc",
        "status": "open", "payment_status": "unpaid", "amount": 100,
        "success_url": "https://shop/ok", "cancel_url": "https://shop/no", "expires_at": 2,
    }  # fmt: skip
    data.update(over)
    return CheckoutSession.model_validate(data)


HOSTILE = session(id="cs_" + EVIL, client_secret="secret" + EVIL)


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser decodes them."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_embeds(markup: str, s: CheckoutSession, key: str, appearance: Any = None) -> None:
    """*markup* holds exactly the widget's div and script, each value read back intact."""
    parsed = Elements(markup)
    tags = [tag for tag, _ in parsed.found]
    assert tags.count("script") == 1 and "img" not in tags, tags
    [div] = [attrs for tag, attrs in parsed.found if tag == "div" and "data-session" in attrs]
    assert div["data-session"] == s.id
    assert div["data-client-secret"] == s.client_secret
    assert div["data-publishable-key"] == key
    assert "data-lumenlater-checkout" in div and "onerror" not in div
    if appearance is not None:
        assert json.loads(div["data-appearance"] or "") == appearance
    [script] = [attrs for tag, attrs in parsed.found if tag == "script"]
    assert (script["src"] or "").startswith("http://127.0.0.1:8787/v1/js/lumenlater.js?v=")
    assert not [a for _, attrs in parsed.found for a in attrs if a.startswith("on")]


def test_embed_html_is_safe_html_for_templates() -> None:
    html = embed_html(HOSTILE, PK)
    assert isinstance(html, SafeHTML) and isinstance(html, str)
    assert html.__html__() == str(html)
    assert_embeds(html, HOSTILE, PK)


def test_embed_html_refuses_a_script_origin_that_is_not_http() -> None:
    for bad in ("javascript:alert(1)//", "data:text/javascript,alert(1)", "//no-scheme"):
        with pytest.raises(ValueError, match="origin"):
            embed_html(session(), PK, base_url=bad)
    with pytest.raises(ValueError, match="origin"):
        embed_html(session(url="javascript:alert(1)"), PK)


# --- Jinja ---------------------------------------------------------------------------


@pytest.fixture
def env() -> jinja2.Environment:
    e = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    install(e, publishable_key=PK)
    return e


def test_jinja_global_writes_the_markup_once_escaped(env: jinja2.Environment) -> None:
    out = env.from_string("<p>{{ note }}</p>{{ lumenlater_embed(s) }}").render(s=HOSTILE, note=EVIL)
    assert out.endswith(str(embed_html(HOSTILE, PK)))  # not escaped a second time
    assert out.startswith("<p>&#34;&gt;&lt;script&gt;")  # autoescaping still on around it
    assert_embeds(out, HOSTILE, PK)


def test_jinja_options_reach_the_widget_escaped(env: jinja2.Environment) -> None:
    out = env.from_string(
        "{{ lumenlater_embed(s, accent_color=colour, appearance={'fontFamily': font},"
        " container_id=box) }}"
    ).render(s=HOSTILE, colour=EVIL, font="</script>" + EVIL, box='pay" onclick="x')
    assert_embeds(out, HOSTILE, PK, {"accentColor": EVIL, "fontFamily": "</script>" + EVIL})
    [div] = [a for t, a in Elements(out).found if t == "div"]
    assert div["id"] == 'pay" onclick="x' and "onclick" not in div


def test_jinja_format_usdc_filter(env: jinja2.Environment) -> None:
    assert env.from_string("{{ 1875000000 | format_usdc }}").render() == "187.50 USDC"
    assert env.from_string("{{ a | format_usdc }}").render(a=1) == format_usdc(1)
    with pytest.raises(TypeError):
        env.from_string("{{ 187.5 | format_usdc }}").render()


def test_jinja_refuses_secret_keys_missing_keys_and_missing_sessions(
    env: jinja2.Environment,
) -> None:
    with pytest.raises(ValueError, match="publishable"):
        install(jinja2.Environment(), publishable_key="sk_test_secret")
    with pytest.raises(ValueError, match="publishable"):
        env.from_string("{{ lumenlater_embed(s, publishable_key='sk_test_x') }}").render(
            s=session()
        )
    keyless = jinja2.Environment(autoescape=True)
    install(keyless, publishable_key=None, key_setting="THE_SETTING")
    with pytest.raises(ValueError, match="THE_SETTING"):
        keyless.from_string("{{ lumenlater_embed(s) }}").render(s=session())
    assert_embeds(
        keyless.from_string("{{ lumenlater_embed(s, publishable_key='pk_test_9') }}").render(
            s=session()
        ),
        session(),
        "pk_test_9",
    )
    # A misspelt variable is an error, never an empty checkout.
    with pytest.raises(TypeError, match="CheckoutSession"):
        keyless.from_string("{{ lumenlater_embed(sesion, publishable_key='pk_test_9') }}").render(
            s=session()
        )
    with pytest.raises(TypeError, match="unknown options"):
        env.from_string("{{ lumenlater_embed(s, colour='red') }}").render(s=session())


def test_plain_jinja_function_takes_the_key_as_an_argument() -> None:
    assert lumenlater_embed(session(), PK) == embed_html(session(), PK)
    with pytest.raises(ValueError, match="publishable_key"):
        lumenlater_embed(session())


def test_flask_init_app_reads_the_config() -> None:
    import flask

    from lumenlater_sdk.checkout.flask import init_app

    app = flask.Flask(__name__)
    app.config["LUMENLATER_PUBLISHABLE_KEY"] = PK
    init_app(app)
    with app.app_context():
        out = flask.render_template_string(
            "{{ lumenlater_embed(s) }}<b>{{ n | format_usdc }}</b>", s=HOSTILE, n=125_000_000
        )
    assert_embeds(out, HOSTILE, PK)
    assert out.endswith("<b>12.50 USDC</b>")

    bare = flask.Flask(__name__)
    init_app(bare)
    with bare.app_context(), pytest.raises(ValueError, match="LUMENLATER_PUBLISHABLE_KEY"):
        flask.render_template_string("{{ lumenlater_embed(s) }}", s=session())
    bad = flask.Flask(__name__)
    bad.config["LUMENLATER_PUBLISHABLE_KEY"] = "sk_test_oops"
    with pytest.raises(ValueError, match="publishable"):
        init_app(bad)


# --- Django --------------------------------------------------------------------------


@pytest.fixture
def django_engine() -> Iterator[Any]:
    import django
    from django.conf import settings
    from django.template import Engine
    from django.test.utils import override_settings

    if not settings.configured:
        # Whichever test module configures Django first in this process; the others
        # override what they need.
        settings.configure(
            SECRET_KEY="test", ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__, USE_TZ=True
        )
        django.setup()
    engine = Engine(
        libraries={"lumenlater": "lumenlater_sdk.checkout.django.templatetags.lumenlater"}
    )
    with override_settings(LUMENLATER_PUBLISHABLE_KEY=PK):
        yield engine


def render_django(engine: Any, source: str, **context: Any) -> str:
    from django.template import Context

    return str(engine.from_string("{% load lumenlater %}" + source).render(Context(context)))


def test_django_tag_writes_the_markup_once_escaped(django_engine: Any) -> None:
    out = render_django(
        django_engine, "<p>{{ note }}</p>{% lumenlater_embed s %}", s=HOSTILE, note=EVIL
    )
    assert out.endswith(str(embed_html(HOSTILE, PK)))
    assert out.startswith("<p>&quot;&gt;&lt;script&gt;")
    assert_embeds(out, HOSTILE, PK)
    stored = render_django(django_engine, "{% lumenlater_embed s as w %}<i></i>{{ w }}", s=HOSTILE)
    assert stored == "<i></i>" + str(embed_html(HOSTILE, PK))


def test_django_tag_options_and_filter(django_engine: Any) -> None:
    out = render_django(
        django_engine,
        '{% lumenlater_embed s accent_color=c border_radius="8px" container_id="pay" %}'
        "{{ n|format_usdc }}",
        s=HOSTILE,
        c=EVIL,
        n=1_875_000_000,
    )
    assert_embeds(out, HOSTILE, PK, {"accentColor": EVIL, "borderRadius": "8px"})
    assert 'id="pay"' in out and out.endswith("187.50 USDC")
    with pytest.raises(TypeError):
        render_django(django_engine, "{{ n|format_usdc }}", n=187.5)


def test_django_tag_key_comes_from_settings_or_the_tag(django_engine: Any) -> None:
    from django.test.utils import override_settings

    out = render_django(
        django_engine, '{% lumenlater_embed s publishable_key="pk_live_z" %}', s=session()
    )
    assert_embeds(out, session(), "pk_live_z")
    with (
        override_settings(LUMENLATER_PUBLISHABLE_KEY=None),
        pytest.raises(ValueError, match="LUMENLATER_PUBLISHABLE_KEY"),
    ):
        render_django(django_engine, "{% lumenlater_embed s %}", s=session())
    with (
        override_settings(LUMENLATER_PUBLISHABLE_KEY="sk_test_secret"),
        pytest.raises(ValueError, match="publishable"),
    ):
        render_django(django_engine, "{% lumenlater_embed s %}", s=session())
    # A missing variable renders as "" in Django: refused, not an empty checkout.
    with pytest.raises(TypeError, match="CheckoutSession"):
        render_django(django_engine, "{% lumenlater_embed missing %}")


def test_django_system_check(django_engine: Any) -> None:
    from django.test.utils import override_settings

    from lumenlater_sdk.checkout.django.apps import check_publishable_key

    assert check_publishable_key() == []
    with override_settings(LUMENLATER_PUBLISHABLE_KEY=None):
        assert [m.id for m in check_publishable_key()] == ["lumenlater.W001"]
    with override_settings(LUMENLATER_PUBLISHABLE_KEY="sk_live_oops"):
        [error] = check_publishable_key()
        assert error.id == "lumenlater.E001" and "secret key" in error.msg
        assert error.is_serious()
