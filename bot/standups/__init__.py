"""Daily standups: facts from the store, pure builders for the posts, held once per channel/day.

Kept free of imports so `bot.roster.models` can validate schedules with `bot.roster.cron`.
"""
