"""The operators' health summary (docs/operators.md, "Health summary (`afterglow status`)").

``model``, ``facts``, ``thresholds`` and the ``*_verdicts`` modules are pure: facts in,
red/amber/green panels with their reasons out, ``now`` a parameter. The ``*_facts``
modules read Kafka and the read model; ``summary.collect_health`` runs them all and
returns the whole summary, for `afterglow status` and any page or endpoint on top.
Nothing here returns a phone number, a name or a message body: only counts and ids of
clinics, topics and partitions.
"""
