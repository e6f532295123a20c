"""Strategy research adapters (issue 14): backtests settled into trades, parameter sweeps, the kill
criterion's enforcement and live-against-backtest comparison. Rules are core's (core.sweep,
core.strategy_review, core.strategy_compare); this is reading, running and writing."""
