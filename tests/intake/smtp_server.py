"""The intake SMTP server on loopback in a thread, for tests that talk to it with a real smtplib client.

with running_server(process=False) as server:
    smtplib.SMTP("127.0.0.1", server.port) ...
"""

from lastweek.intake.smtp import serve_in_thread as running_server

__all__ = ["running_server"]
