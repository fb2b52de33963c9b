"""The city neuron system (城市神经元系统): devices, telemetry ingest, dead letters, health, commands."""
