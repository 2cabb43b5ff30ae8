"""The review web app (复核网站): findings, evidence, decisions, registry, scans."""
