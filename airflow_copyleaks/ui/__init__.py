"""What people open in a browser: audit reports, exported PDFs and results, and the Copyleaks page.

These routes are the plugin's second face (DESIGN.md decision 8): unlike the webhook routes, which
Copyleaks calls anonymously with a per-scan HMAC header, they require an Airflow login and the
user's access to the DAG whose output they serve.
"""
