def document_format(digits: str) -> str:
    """CPF 52998224725 → 529.982.247-25; CNPJ → 11.222.333/0001-81."""
    if len(digits) == 11:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    return digits
