"""City vital signs (城市运行数字体征): declared indicators computed live, four-level warnings, forecasts."""
