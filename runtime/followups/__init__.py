"""Follow-up cadences ("régua de follow-up"): when a lead goes quiet after our reply, the agent's
configured steps bring them back, within WhatsApp's rules.

- service: scheduling (after an outbound reply), cancelling (lead replied, takeover...) and
  running one step exactly once (job ``followups.run_step``).
- engine: where steps are scheduled: the Postgres job queue or Google Cloud Tasks.
- stats: recoveries and counts for the dashboard.
"""
