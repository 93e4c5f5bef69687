"""Virtual OCPP chargers for demos, end-to-end tests and load generation.

    python manage.py simulate_chargers --count 10 --url ws://demo.localhost:8000/ocpp/ --seed 1
    python -m apps.simulator --count 5000 --session-every 600 --url ws://host/ocpp/   # no Django needed

Layout: state.py (options, counters, connector state, the outbound queue item), keys.py (the
configuration key store), meter.py (charging curve and sampled values), smart.py (charging
profiles), charger16.py (connection life cycle, boot, heartbeat, the ordered outbound queue),
sessions16.py (sessions), flows16.py (what follows a command), chargepoint16.py (the answers),
fleet.py (many chargers, progress line), cli.py (arguments).

OCPP 2.0.1 and 2.1 (`--protocol 2.0.1|2.1`): link.py (connection life cycle and ordered queue,
shared with 1.6), charger2.py (boot, statuses, the 2.x state), devicemodel2.py (components and
variables, reports, monitors), sessions2.py (TransactionEvent streams), flows2.py (what follows a
command), chargepoint2.py (the answers, one set of handlers for the v201 and v21 library classes).

A pure client: nothing here may import server-side EVzone code, so the package can be copied
next to a load-test rig and pointed at any CSMS.
"""
