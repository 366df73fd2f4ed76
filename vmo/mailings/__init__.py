"""Mailing (邮寄服务): plates and papers posted to people and companies, tracked until delivered or returned."""
