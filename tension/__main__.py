"""`python -m tension …`"""

from tension.cli import main

if __name__ == "__main__":
    main()
