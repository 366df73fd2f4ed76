"""Texts to the owner of a motorcycle on the register (bodies only; the outbox signs them)."""
from vmo.notify.texts import template

# Sent instead of a tour invitation, once per motorcycle: past its scrapping age, or three inspection
# cycles missed (《机动车强制报废标准规定》 arts. 4 and 5), it is deregistered, not inspected.
SCRAP_DUE = template(
    "motorcycles.scrap_due",
    "您的摩托车{plate}已达到国家强制报废标准，不能再检验。请交报废回收企业拆解，"
    "并到车管所办理注销登记。咨询{phone}。",
    worst={"plate": "渝G12345", "phone": "023-71400000"},
)
