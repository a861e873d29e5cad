"""Writers and readers shared by the apps: Excel (openpyxl), PDF (ReportLab with the embedded IPAex
font), CSV with a UTF-8 BOM, zip archives, and the lenient reading of Japanese dates and answer marks.

Nothing here touches the ORM: callers hand in dataclasses (see `checklist.ChecklistDocument`) and get
bytes (or parsed rows) back.
"""
