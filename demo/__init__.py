"""Demo data: the centres, logins, cases, plans, procedures, follow-up visits and patency
cohort that ``make run`` shows a newcomer, and the bulk generators the benchmarks fill their
databases with (``manage.py seed_demo``, ``manage.py seed_patency_demo``). It builds on every
app through their services and is imported by none of them."""
