"""The store backend: what the assistant tells the store's own systems, and how it hears back.

Outbound, every request is written to the ``backend_outbox`` table in the same transaction as
the change it reports (:func:`assistant.backend.outbox.enqueue`) and delivered later by
:class:`assistant.backend.outbox.OutboxDeliverer` through a :class:`~assistant.backend.outbox.Transport`
(the signed webhook by default, a platform adapter when ``SHOP_BACKEND`` names one).
Inbound, the store's updates arrive at ``POST /api/events`` (:mod:`assistant.backend.inbound`).
"""
