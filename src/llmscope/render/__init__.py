"""Render: tables for people and machines, terminal charts and trace views."""
