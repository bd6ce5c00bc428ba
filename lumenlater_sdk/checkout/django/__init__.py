"""The embedded checkout in Django templates: an app to add to ``INSTALLED_APPS``.

::

    # settings.py
    INSTALLED_APPS = [..., "lumenlater_sdk.checkout.django"]
    LUMENLATER_PUBLISHABLE_KEY = "pk_test_..."

    {# a template #}
    {% load lumenlater %}
    {% lumenlater_embed checkout_session %}
    {% lumenlater_embed checkout_session accent_color="#0c7a5a" container_id="pay" %}
    {{ order.amount|format_usdc }}

``lumenlater_embed`` writes :func:`~lumenlater_sdk.checkout.embed_html`'s markup (every
value escaped once, not escaped again by autoescaping); ``format_usdc`` is
:func:`lumenlater_sdk.format_usdc`. ``manage.py check`` reports a missing key
(``lumenlater.W001``) and a key that is not a publishable key (``lumenlater.E001``).
"""
